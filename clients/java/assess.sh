mkdir -p gen/java classes
protoc -I proto --java_out=gen/java --grpc-java_out=gen/java \
    --plugin=protoc-gen-grpc-java="$(command -v grpc_java_plugin)" $(find proto -name '*.proto')
cp=$(printf '/usr/share/java/%s.jar:' protobuf grpc-api grpc-context grpc-core grpc-netty grpc-protobuf \
    grpc-protobuf-lite grpc-stub guava geronimo-annotation-1.3-spec perfmark-api netty-buffer netty-codec \
    netty-codec-http netty-codec-http2 netty-common netty-handler netty-resolver netty-transport)
javac -nowarn -d classes -cp "$cp" $(find gen/java -name '*.java') AssessExample.java
java -cp "classes:$cp" AssessExample
