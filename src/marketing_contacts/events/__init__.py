"""Events over Redis pub/sub, so subscribers on any API process hear changes made anywhere."""
