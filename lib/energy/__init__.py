"""Energy (score) models over (graph, candidate) pairs: the model, its training objectives and
config, its trainer, and energy + search as a solver."""

from .config import EnergyTrainConfig
from .model import EnergyConfig, EnergyModel
from .solve import EnergySolver, SearchSettings
from .train import EnergyRun, load_energy_run, train_energy

__all__ = ["EnergyConfig", "EnergyModel", "EnergySolver", "SearchSettings", "EnergyRun", "EnergyTrainConfig",
           "load_energy_run", "train_energy"]
