"""Datapakker: data packs for Danish health clusters (sundhedsklynger) and health councils (sundhedsråd).

The domain core. It imports no Dagster: everything here is plain, typed Python that the
Dagster assets in ``assets/`` call.
"""
