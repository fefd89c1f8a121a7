// pp2-consumer: a PROXY protocol receiver built on github.com/pires/go-proxyproto (the parser
// Traefik and many Go servers use), for dds tests. Each connection's header is parsed by the
// library and described back to the sender as one JSON line, then the connection is closed.
//
//	pp2-consumer 127.0.0.1:PORT
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"os"

	proxyproto "github.com/pires/go-proxyproto"
	"github.com/pires/go-proxyproto/tlvparse"
)

type report struct {
	Error      string `json:"error,omitempty"`
	Version    byte   `json:"version"`
	Source     string `json:"source"`
	Dest       string `json:"destination"`
	Authority  string `json:"authority,omitempty"`
	SSL        bool   `json:"ssl"`
	CertConn   bool   `json:"certConn"`
	CertSess   bool   `json:"certSess"`
	Verified   bool   `json:"verified"`
	TLSVersion string `json:"tlsVersion,omitempty"`
	Cipher     string `json:"cipher,omitempty"`
	CN         string `json:"cn,omitempty"`
	ClientURI  string `json:"clientUri,omitempty"`
	Payload    string `json:"payload"`
}

func main() {
	ln, err := net.Listen("tcp", os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println("listening")
	for {
		c, err := ln.Accept()
		if err != nil {
			continue
		}
		go serve(c)
	}
}

func serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	var out report
	h, err := proxyproto.Read(r)
	if err != nil {
		out.Error = err.Error()
	} else {
		out.Version = h.Version
		out.Source = h.SourceAddr.String()
		out.Dest = h.DestinationAddr.String()
		tlvs, err := h.TLVs()
		if err != nil {
			out.Error = err.Error()
		}
		for _, t := range tlvs {
			switch t.Type {
			case proxyproto.PP2_TYPE_AUTHORITY:
				out.Authority = string(t.Value)
			case 0xE4:
				out.ClientURI = string(t.Value)
			}
		}
		if ssl, ok := tlvparse.FindSSL(tlvs); ok {
			out.SSL = ssl.ClientSSL()
			out.CertConn = ssl.ClientCertConn()
			out.CertSess = ssl.ClientCertSess()
			out.Verified = ssl.Verified()
			out.TLSVersion, _ = ssl.SSLVersion()
			out.Cipher, _ = ssl.SSLCipher()
			out.CN, _ = ssl.ClientCN()
		}
	}
	line, _ := r.ReadString('\n')
	out.Payload = line
	b, _ := json.Marshal(out)
	c.Write(append(b, '\n'))
}
