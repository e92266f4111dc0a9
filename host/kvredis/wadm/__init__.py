"""wadm manifests run locally (`kvredis up`): the manifest model (`manifest`), the run plan
(`plan`), and what starts it (`deploy`, with `router` to serve several components at once).
"""
