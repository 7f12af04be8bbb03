"""Write synthetic faces to disk in each real dataset's layout, quirks included.

No real dataset can be downloaded at run time, so the loaders are tested on files these
writers produce from :func:`fer_utils.data.synthetic.generate_faces` (generate with classes
the format can hold, e.g. ``JAFFE_CLASSES`` for JAFFE). Each writer creates
``root/<dataset>/`` exactly as the publisher ships it (see ``docs/replication.md``, datasets
and the loader modules) and returns a :class:`WrittenDataset`, which can be passed to the
matching loader directly::

    faces = generate_faces(120, classes=JAFFE_CLASSES, n_subjects=10)
    written = write_jaffe(tmp_dir, faces)
    ds = load_jaffe(written)            # or load_dataset("jaffe", root=tmp_dir / "jaffe")

One module per dataset holds its writer (``writers_jaffe``, ``writers_ckplus``,
``writers_ferplus``, ``writers_rafml``; :class:`WrittenDataset` in ``writers_common``);
this module gathers the public names.
"""

from __future__ import annotations

from fer_utils.data.writers_ckplus import write_ckplus
from fer_utils.data.writers_common import WrittenDataset
from fer_utils.data.writers_ferplus import FER2013_CODES, write_ferplus
from fer_utils.data.writers_jaffe import write_jaffe
from fer_utils.data.writers_rafml import write_rafml

__all__ = [
    "FER2013_CODES",
    "WrittenDataset",
    "write_ckplus",
    "write_ferplus",
    "write_jaffe",
    "write_rafml",
]
