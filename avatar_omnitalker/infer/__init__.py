"""Inference: references, text chunking, joining chunks, idle motion and the generation pipeline."""
