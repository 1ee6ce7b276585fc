"""Figures for the report: each function returns a `Figure`; `save_figure` writes it to
``figures/`` (or ``$LAB_FIGURES_DIR``) as PNG and SVG and returns it. Grouped by topic:
`figures` (saving, palette), `graphs` (drawing graphs), `task` (notebook 00),
`generalization` (01, 02), `recurrence` (02), `regularization` (03), `energy` (04, 05), `decisive` (05).
"""

from .figures import PALETTE, save_figure
from .graphs import draw_graph, graph_layout, plot_graph_gallery
from .task import plot_distribution_shift, plot_sampler_vs_reference, plot_time_per_graph
from .generalization import plot_accuracy_vs_depth, plot_accuracy_vs_iterations, plot_accuracy_vs_size, plot_cost_vs_iterations, plot_grouped_bars, plot_hop_depth, plot_learning_curves, plot_training_curves
from .recurrence import plot_iterations_vs_depth, plot_state_drift
from .decisive import plot_exact_vs_flops, plot_exact_vs_n, plot_flops_vs_n, plot_rounds_vs_depth, plot_seconds_vs_n
from .regularization import plot_accuracy_vs_flops, plot_ood_vs, plot_regularizer_strength
from .energy import plot_asymmetry, plot_compute_matched, plot_energy_slices, plot_energy_vs_error
