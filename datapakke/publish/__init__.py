"""Stage 4, publish: per-area marts cut from the protected mart, charts, the Excel pack and the
download page. Nothing here sees an unprotected count.

Read first: :func:`datapakke.publish.stage.build_area_packs`.
"""
