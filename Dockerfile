# The app in a container: docker build -t mlp-playground . && docker run -p 8000:8000 -v $PWD/data:/app/data mlp-playground
# MNIST: mount the four IDX .gz files and point MLP_MNIST_DIR at them, e.g. -v /path/to/mnist:/mnist -e MLP_MNIST_DIR=/mnist
FROM python:3.11-slim

WORKDIR /app
COPY pyproject.toml README.md ./
COPY mlp_engine ./mlp_engine
COPY app ./app
RUN pip install --no-cache-dir .
COPY static ./static
COPY templates ./templates

ENV MLP_DATA_DIR=/app/data
EXPOSE 8000
CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"]
