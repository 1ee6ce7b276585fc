"""Published figures from the anchor papers, for comparison tables (facts, not our results)."""

#: CLRS (Ibarz et al. 2022, Table 2): Dijkstra, OOD at n = 64, pointer accuracy in %, trained at
#: n <= 16 *with hints*, 10k steps, 10 seeds: (mean, std).
CLRS_DIJKSTRA_N64 = {"Triplet-GMPNN (CLRS, hints)": (96.05, 0.60), "MPNN (CLRS, hints)": (91.50, 0.50)}

#: Feedback Transformer (Fan et al. 2020), code execution, 100 statements, width 256: accuracy in %.
FEEDBACK_CODE_EXECUTION = {
    3: {"Feedback Transformer (4 layers)": 99.1, "Transformer (8 layers)": 33.7},
    5: {"Feedback Transformer (4 layers)": 92.6, "Transformer (8 layers)": 37.5},
}
