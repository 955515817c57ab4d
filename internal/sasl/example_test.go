package sasl

import (
	"encoding/binary"
	"fmt"
	"time"
)

// A CRAM-MD5 exchange with RFC 2195's example: the server issues the
// challenge, the client answers it, and the server checks the answer
// against the stored HMAC-MD5 key states (never the password itself).
func ExampleNewCRAMMD5Server() {
	creds := newTestCredentials("tim", "tanstaaftanstaaf") // in postgate: the user store
	info := ServerInfo{
		Hostname: "postoffice.reston.mci.net",
		// Fixed randomness and clock to reproduce the RFC's challenge.
		Nonce: func(n int) []byte { return binary.BigEndian.AppendUint64(nil, 1896) },
		Now:   func() time.Time { return time.Unix(697170952, 0) },
	}
	server := NewCRAMMD5Server(info, creds)
	client := NewCRAMMD5Client("tim", "tanstaaftanstaaf")

	challenge, _, _ := server.Next(nil) // CRAM-MD5 has no initial response
	fmt.Printf("S: %s\n", challenge)
	response, _ := client.Next(challenge)
	fmt.Printf("C: %s\n", response)
	_, done, err := server.Next(response)
	fmt.Println("done:", done, "error:", err, "user:", server.Result().User)

	// The same exchange with a wrong password fails with a precise reason.
	server = NewCRAMMD5Server(info, creds)
	challenge, _, _ = server.Next(nil)
	response, _ = NewCRAMMD5Client("tim", "guess").Next(challenge)
	_, _, err = server.Next(response)
	fmt.Println("error:", err)
	// Output:
	// S: <1896.697170952@postoffice.reston.mci.net>
	// C: tim b913a602c7eda7a495b4e6e7334d3890
	// done: true error: <nil> user: tim
	// error: wrong password
}

// DIGEST-MD5 server side: the challenge, a response from a client that
// used the connected address in digest-uri (as swaks does), the server's
// rspauth, and the note recorded for the log.
func ExampleNewDigestMD5Server() {
	creds := newTestCredentials("alice", "correct horse")
	info := ServerInfo{
		Service:   "smtp",
		Hostname:  "mail.example.test",
		LocalAddr: "127.0.0.1",
		Nonce:     func(n int) []byte { return make([]byte, n) }, // fixed for the example
		Now:       func() time.Time { return time.Unix(1700000000, 0) },
	}
	server := NewDigestMD5Server(info, creds)
	client := NewDigestMD5Client("", "alice", "correct horse", ClientInfo{Service: "smtp", Host: "127.0.0.1",
		Nonce: func(n int) []byte { return make([]byte, n) }})

	challenge, _, _ := server.Next(nil)
	fmt.Printf("S: %s\n", challenge)
	response, _ := client.Next(challenge)
	rspauth, done, err := server.Next(response)
	fmt.Printf("S: %s (done %v, error %v)\n", rspauth, done, err)
	final, err := client.Next(rspauth) // the client checks the server's proof
	fmt.Printf("C: %q (error %v)\n", final, err)
	_, done, err = server.Next(final)
	r := server.Result()
	fmt.Println("done:", done, "error:", err, "user:", r.User)
	fmt.Println("notes:", r.Notes)
	// Output:
	// S: realm="mail.example.test",nonce="00000000000000000000000000000000",qop="auth",charset=utf-8,algorithm=md5-sess
	// S: rspauth=4aa43efd17e4bdd50106a9e2236e09da (done false, error <nil>)
	// C: "" (error <nil>)
	// done: true error: <nil> user: alice
	// notes: [digest-uri host "127.0.0.1" is the connected address, not the hostname]
}
