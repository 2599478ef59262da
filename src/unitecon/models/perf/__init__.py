"""Performance model of LLM serving (models stage; pure functions, never imports the store).

catalog   GPUs, architectures, precisions (packaged CSVs + custom YAML/JSON files)
arch      parameters, weight bytes, KV bytes, FLOPs per token
step      one engine step: memory, compute, all-reduce, overhead
serving   KV capacity, max batch, operating points (concurrency, rate, latency, max)
predict   names -> Deployment
calibrate the calibration table and the fitted Efficiency (data/fitted.json)
"""
