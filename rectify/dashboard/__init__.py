"""The battle map (挂图作战) and leader views. So far: the county boundaries the map draws (`geo`)."""
