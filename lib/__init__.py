"""dijkstra-lab: can a network learn Dijkstra, and does search over a learned score help?"""
