"""The RelayDance simulator: a real HTTP server speaking the relay's contract, for tests and
offline previews.

>>> with run_simulator(SimConfig(api_key="sk-sim")) as sim:  # doctest: +SKIP
...     sim.base_url, sim.storage_url

It shares no code with :mod:`rdpipe.client`; it plays the server, with its own model table,
and RelayDance's media host too: upload slots and the asset library on the API origin, presigned
uploads and hosted files on the storage origin (:class:`MediaRules`, ``SimServer.media_rules``).
It publishes prices and a balance and charges each task (``SimServer.charges``), can gate
concurrent requests per key (``SimConfig.concurrency_limit``), and fails tasks by class
(:data:`FAILURE_CLASSES`, ``Faults.failure_markers``).
"""

from __future__ import annotations

from rdpipe.sim.billing import Charge
from rdpipe.sim.callbacks import CallbackDelivery
from rdpipe.sim.catalog import MODELS, ModelSpec, frame_size
from rdpipe.sim.clips import synthetic_bytes
from rdpipe.sim.config import SimConfig, Timing
from rdpipe.sim.failures import FAILURE_CLASSES
from rdpipe.sim.faults import ENDPOINTS, Faults, StoredBody
from rdpipe.sim.media import MediaRules
from rdpipe.sim.preview_clips import RenderFailed
from rdpipe.sim.recorder import RecordedRequest
from rdpipe.sim.server import PortUnavailable, open_simulator, run_simulator
from rdpipe.sim.sim_server import SimServer

__all__ = [
    "ENDPOINTS",
    "FAILURE_CLASSES",
    "MODELS",
    "CallbackDelivery",
    "Charge",
    "Faults",
    "MediaRules",
    "ModelSpec",
    "PortUnavailable",
    "RecordedRequest",
    "RenderFailed",
    "SimConfig",
    "SimServer",
    "StoredBody",
    "Timing",
    "frame_size",
    "open_simulator",
    "run_simulator",
    "synthetic_bytes",
]
