"""Stage 3, mart: the indicator catalogue, the statistics, disclosure control and the protected
``mart.indicator_value`` table.

Read first: :func:`datapakke.mart.stage.build_indicator_values`.
"""
