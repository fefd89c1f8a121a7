// grpc-echo-go: the gRPC upstream of the tls-sidecar benchmarks, on grpc-go (the server most
// gRPC services run on). Every unary call, whatever its method, is answered with the request's
// own bytes: no protobuf code is generated, and a message whose field 1 is a string (the bench's
// dds.bench.Echo/Say) comes back as a valid reply.
//
//	grpc-echo-go HOST:PORT
package main

import (
	"fmt"
	"net"
	"os"

	"google.golang.org/grpc"
)

// rawCodec passes message bytes through untouched.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) { return *(v.(*[]byte)), nil }
func (rawCodec) Unmarshal(data []byte, v any) error {
	*(v.(*[]byte)) = append([]byte(nil), data...)
	return nil
}
func (rawCodec) Name() string { return "proto" }

func main() {
	lis, err := net.Listen("tcp", os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	s := grpc.NewServer(
		grpc.ForceServerCodec(rawCodec{}),
		grpc.UnknownServiceHandler(func(_ any, stream grpc.ServerStream) error {
			var msg []byte
			if err := stream.RecvMsg(&msg); err != nil {
				return err
			}
			return stream.SendMsg(&msg)
		}),
	)
	fmt.Println("listening")
	_ = s.Serve(lis)
}
