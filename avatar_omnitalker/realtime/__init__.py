"""Real-time sessions: the frame clock and the batching scheduler shared by sessions."""
