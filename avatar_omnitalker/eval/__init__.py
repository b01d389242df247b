"""Evaluation: intelligibility, voice, style and lip-sync metrics and the report."""
