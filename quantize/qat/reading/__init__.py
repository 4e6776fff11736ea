"""Reading-comprehension training data for reader models (`quantize qat reading`)."""
