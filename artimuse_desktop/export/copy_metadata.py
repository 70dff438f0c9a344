"""What goes inside exported copies: each exported photo's decisions and scores, read once (the same
``SidecarData`` a sidecar gets), rendered as the XMP packet ``embed_xmp`` puts inside the JPEG/PNG copy."""

from __future__ import annotations

from collections.abc import Sequence

from artimuse_desktop.catalog.db import Catalog
from artimuse_desktop.catalog.queries import assessments_for, get_score_model
from artimuse_desktop.export.embed_xmp import can_embed, xmp_packet
from artimuse_desktop.export.plan import PlanItem


def xmp_packets(catalog: Catalog, items: Sequence[PlanItem]) -> dict[int, bytes]:
    """photo id -> the XMP packet its embeddable copies receive (rating, label, -1 for rejects, scores)."""
    from artimuse_desktop.export.xmp import render_sidecar, sidecar_data

    packets: dict[int, bytes] = {}
    with catalog.read() as session:
        model = get_score_model(session)
        for item in items:
            if item.already_there or not any(can_embed(f.destination) for f in item.files):
                continue
            record = item.photo.record
            data = sidecar_data(record, assessments_for(session, record.id), model)
            packets[record.id] = xmp_packet(render_sidecar(None, item.destination, data, "lightroom"))
    return packets
