-- wrk script: every request carries the benchmark user's token.
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
