package codec

import (
	"strings"
	"sync"

	"google.golang.org/protobuf/proto"

	"github.com/safethird/safethird/server/rpcstatus"
)

// Malformed keeps the decode errors of requests the codecs could not
// decode, by request, until the interceptor chain takes them. grpc-go turns
// any error of a codec into INTERNAL ("grpc: error unmarshalling request"),
// before any interceptor runs: before auth, unlogged by the chain, without
// ErrorInfo. So a codec leaves a request it cannot decode empty and
// reports success, and the chain refuses it, after auth, as the
// INVALID_ARGUMENT it is.
type Malformed struct {
	byRequest sync.Map // proto.Message -> error
}

// note records err for the request msg and leaves msg empty.
func (m *Malformed) note(msg proto.Message, err error) {
	proto.Reset(msg)
	m.byRequest.Store(msg, err)
}

// Take returns, and forgets, the decode error of req; nil when it decoded.
func (m *Malformed) Take(req any) error {
	if err, ok := m.byRequest.LoadAndDelete(req); ok {
		return err.(error)
	}
	return nil
}

// protoError is the error of a request that is not protobuf of its
// message: protobuf's own text (invalid wire-format data, invalid UTF-8 in
// a field it names), which never repeats a value.
func protoError(err error) *rpcstatus.RequestError {
	rule := "does not decode as its message: " + strings.TrimPrefix(err.Error(), "proto: ")
	return &rpcstatus.RequestError{Field: wholeRequest, Rule: rule, Msg: "invalid request: request: " + rule}
}
