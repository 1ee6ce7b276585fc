"""Energy (score) models over (graph, candidate) pairs, their training objectives, and
energy + search as a solver."""

from .model import EnergyConfig, EnergyModel
from .solve import EnergySolver, SearchSettings
from .train import EnergyRun, EnergyTrainConfig, load_energy_run, train_energy

__all__ = ["EnergyConfig", "EnergyModel", "EnergySolver", "SearchSettings", "EnergyRun", "EnergyTrainConfig",
           "load_energy_run", "train_energy"]
