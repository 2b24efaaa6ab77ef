print("vigied")
