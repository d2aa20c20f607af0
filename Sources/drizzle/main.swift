print("drizzle")
