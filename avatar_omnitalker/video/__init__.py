"""Video in: media decoding, MediaPipe landmarks, the 61-D motion solver, reference preparation."""
