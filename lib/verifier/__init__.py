"""Verifiers learned from (graph, candidate) -> correct / wrong labels, the exact checker as their
ceiling, and their training. Every verifier scores a distance candidate as a sum of per-node terms,
and can score a node's alternative values with its neighbours held fixed (`option_terms`), which is
what the parallel local search of `lib.search.parallel_moves` needs."""
