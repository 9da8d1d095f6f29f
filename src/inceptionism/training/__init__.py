"""Fine-tuning a network on a folder of your photos (``inceptionism train``)."""

from inceptionism.training.dataset import Dataset, scan_dataset, split_dataset

__all__ = ["Dataset", "scan_dataset", "split_dataset"]
