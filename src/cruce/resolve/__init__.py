"""Entity resolution: normalisers per value type and the linkage models built on them."""
