"""The foundation every layer stands on: named errors, the registry of spaces, rankers and models,
input checks, small array helpers, notes (a code and its parameters), machine facts, configuration
and verified artifacts.  Imports nothing else of the engine."""
