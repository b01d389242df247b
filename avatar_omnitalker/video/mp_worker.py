"""Face landmarks of a video at 25 fps, run inside the isolated MediaPipe environment.

This file is executed by the environment's own Python (mediapipe 0.10.21 needs numpy < 2 and
protobuf < 5, which the main environment does not have), so it imports nothing from the
package: only mediapipe, numpy and av. Usage:

    python mp_worker.py VIDEO OUT.npz FPS [TASK_FILE]

OUT.npz: landmarks (T, 478, 3) float32 in pixels (z scaled like x), faces (T,) int8 faces seen,
size (2,) height/width, and with a FaceLandmarker .task file also blendshapes (T, 52) and
matrices (T, 4, 4).
"""

import sys

import av
import numpy as np


def frames_at(path, fps):
    """For output frame k, the source frame on screen at its centre (k + 0.5) / fps."""
    with av.open(path) as container:
        stream = container.streams.video[0]
        step = 1.0 / float(stream.average_rate or fps)
        k, prev = 0, None
        for frame in container.decode(stream):
            t = float(frame.pts * stream.time_base) if frame.pts is not None else (k + 0.5) / fps
            img = frame.to_ndarray(format="rgb24")
            if prev is not None:
                while (k + 0.5) / fps < t:
                    yield prev[0]
                    k += 1
            prev = (img, t)
        if prev is not None:
            while (k + 0.5) / fps < prev[1] + step:
                yield prev[0]
                k += 1


def main():
    video, out, fps = sys.argv[1], sys.argv[2], float(sys.argv[3])
    task = sys.argv[4] if len(sys.argv) > 4 else None
    import mediapipe as mp

    lms, faces, shapes, mats, size = [], [], [], [], (0, 0)
    if task:
        from mediapipe.tasks import python as mpt
        from mediapipe.tasks.python import vision

        options = vision.FaceLandmarkerOptions(
            base_options=mpt.BaseOptions(model_asset_path=task),
            running_mode=vision.RunningMode.VIDEO,
            num_faces=2,
            output_face_blendshapes=True,
            output_facial_transformation_matrixes=True,
        )
        detector = vision.FaceLandmarker.create_from_options(options)
    else:
        detector = mp.solutions.face_mesh.FaceMesh(
            static_image_mode=False,
            refine_landmarks=True,
            max_num_faces=2,
            min_detection_confidence=0.5,
            min_tracking_confidence=0.5,
        )
    for i, img in enumerate(frames_at(video, fps)):
        h, w = img.shape[:2]
        size = (h, w)
        if task:
            res = detector.detect_for_video(mp.Image(image_format=mp.ImageFormat.SRGB, data=img), int(i * 1000 / fps))
            found = res.face_landmarks or []
            pts = found[0] if found else None
            shapes.append([c.score for c in res.face_blendshapes[0]] if found else [0.0] * 52)
            mats.append(np.asarray(res.facial_transformation_matrixes[0]) if found else np.eye(4))
        else:
            res = detector.process(img)
            found = res.multi_face_landmarks or []
            pts = found[0].landmark if found else None
        faces.append(len(found))
        if pts is None:
            lms.append(np.full((478, 3), np.nan, np.float32))
        else:
            lms.append(np.array([[p.x * w, p.y * h, p.z * w] for p in pts], np.float32)[:478])
    extra = {"blendshapes": np.asarray(shapes, np.float32), "matrices": np.asarray(mats, np.float32)} if task else {}
    np.savez(
        out,
        landmarks=np.stack(lms) if lms else np.zeros((0, 478, 3), np.float32),
        faces=np.asarray(faces, np.int8),
        size=np.asarray(size),
        **extra,
    )


if __name__ == "__main__":
    main()
