"""What Rasa loads by dotted path (config.yml, endpoints.yml, credentials.yml) or runs patched: the NLU components,
the tracker and lock stores, the NLG, the REST channel, the patches of Rasa internals and the `rasa` entry."""
