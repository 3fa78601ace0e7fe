mkdir -p gen/python
protoc -I proto --python_out=gen/python --pyi_out=gen/python --grpc_python_out=gen/python \
    --plugin=protoc-gen-grpc_python="$(command -v grpc_python_plugin)" $(find proto -name '*.proto')
