"""Field operations on points: where they stand, whether they are alive, how they are doing."""
