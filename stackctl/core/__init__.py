"""The engine-neutral core both backends build on: labels and hashing, env, plan builder."""
