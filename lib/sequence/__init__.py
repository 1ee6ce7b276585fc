"""Sequence models on sequence tasks (notebook 02): the Feedback Transformer and the decoder
Transformer, the code-execution and Dijkstra-trace tasks, and their trainer (`train`)."""
