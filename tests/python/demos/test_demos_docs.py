"""`make docs`' static lineage site (target/static_index.html) opens in headless Chromium and draws the graph."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from dbt_run import dbt
from PIL import Image


def test_static_docs_site_renders_the_lineage_graph(tmp_lake: Path, tmp_path: Path, chromium) -> None:
    work = tmp_path / "dbt"
    proc = dbt(tmp_lake, work, "docs", "generate", "--static")
    assert proc.returncode == 0, proc.stdout[-4000:]
    site = work / "target" / "static_index.html"
    html = site.read_text(encoding="utf-8")
    assert "trades_unified" in html and "features_2s" in html

    # the overview page with the lineage graph open (`g_v=1`), as the "View Lineage Graph" button does
    url = site.as_uri() + "#!/overview?g_v=1"
    dom = chromium.dump_dom(url)
    assert "Lineage Graph" in dom, "the lineage graph panel was not opened"
    assert "<canvas" in dom, "the graph (cytoscape canvas) was not drawn"

    shot = chromium.screenshot(url, tmp_path / "lineage.png", size=(1400, 900))
    img = np.asarray(Image.open(shot).convert("RGB"), dtype=np.int16)
    graph = img[90:780, 40:1340]  # inside the graph panel, above its filter bar
    colours, counts = np.unique(graph.reshape(-1, 3), axis=0, return_counts=True)
    background = colours[np.argmax(counts)]
    drawn = np.mean(np.any(np.abs(graph - background) > 30, axis=2))
    assert drawn > 0.003, f"the lineage graph looks empty ({drawn:.4f} of the panel differs from its background)"
