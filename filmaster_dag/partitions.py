"""Dynamic partitions: one per film in the reference library, one per production."""

import dagster as dg

films = dg.DynamicPartitionsDefinition(name="films")
productions = dg.DynamicPartitionsDefinition(name="productions")
