package sasl_test

import (
	"crypto/x509"
	"encoding/base64"
	"fmt"

	"postgate/internal/sasl"
)

// scramExampleStore is a one-user credentials source that keeps only the
// derived SCRAM secret, as the user store does.
type scramExampleStore struct {
	user   string
	secret sasl.SCRAMSecret
}

func (s scramExampleStore) SCRAMSecret(user, hash string) (string, sasl.SCRAMSecret, error) {
	if user != s.user {
		return "", sasl.SCRAMSecret{}, sasl.ErrUnknownUser
	}
	if hash != "SHA-1" {
		return "", sasl.SCRAMSecret{}, sasl.ErrNoSecret
	}
	return s.user, s.secret, nil
}

func (scramExampleStore) CheckPassword(string, string) (string, error) {
	return "", sasl.ErrUnknownUser
}

func (scramExampleStore) CRAMMD5Secret(string) (string, sasl.CRAMMD5Secret, error) {
	return "", sasl.CRAMMD5Secret{}, sasl.ErrUnknownUser
}

func (scramExampleStore) DigestMD5Secret(string, string) (string, [16]byte, error) {
	return "", [16]byte{}, sasl.ErrUnknownUser
}

func (scramExampleStore) CertificateUser(*x509.Certificate) (string, error) {
	return "", sasl.ErrUnknownUser
}

func (scramExampleStore) MayAuthorize(string, string) bool { return false }

// A complete SCRAM-SHA-1 exchange between NewSCRAMClient and
// NewSCRAMServer, reproducing RFC 5802 §5 with its fixed nonces. In SMTP
// each message travels base64-encoded: the client-first message as the
// AUTH initial response (or after an empty 334), the server's messages in
// 334 replies; the client answers the server-final message with an empty
// line and the server replies 235.
func ExampleNewSCRAMServer() {
	salt, _ := base64.StdEncoding.DecodeString("QSXCR+Q6sek8bf92")
	secret, _ := sasl.DeriveSCRAM("SHA-1", "pencil", salt, 4096)
	store := scramExampleStore{user: "user", secret: secret}

	fixed := func(s string) func(int) []byte { return func(int) []byte { return []byte(s) } }
	server := sasl.NewSCRAMServer("SHA-1", false, sasl.ServerInfo{Nonce: fixed("3rfcNHYJY1ZVvWVs7j")}, store)
	client := sasl.NewSCRAMClient("SHA-1", false, "", "user", "pencil", sasl.ClientInfo{Nonce: fixed("fyko+d2lbbFgONRv9qkxdawL")})

	mech, msg, _ := client.Start()
	fmt.Println("AUTH", mech)
	for {
		if len(msg) == 0 {
			fmt.Println("C: (empty line)")
		} else {
			fmt.Printf("C: %s\n", msg)
		}
		challenge, done, err := server.Next(msg)
		if err != nil {
			fmt.Println("failed:", err)
			return
		}
		if done {
			break
		}
		fmt.Printf("S: %s\n", challenge)
		if msg, err = client.Next(challenge); err != nil {
			fmt.Println("client failed:", err)
			return
		}
	}
	fmt.Println("authenticated as", server.Result().User)
	// Output:
	// AUTH SCRAM-SHA-1
	// C: n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL
	// S: r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096
	// C: c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=
	// S: v=rmF9pqV8S7suAoZWja4dJRkFsKQ=
	// C: (empty line)
	// authenticated as user
}

// With channel binding, the client of a -PLUS mechanism names the binding
// type in the GS2 header; the server checks that c= carries the same TLS
// channel's data.
func ExampleNewSCRAMClient() {
	cb := map[string][]byte{"tls-exporter": []byte("32 bytes of exported key material")}
	client := sasl.NewSCRAMClient("SHA-256", true, "", "user", "pencil", sasl.ClientInfo{
		ChannelBindings: cb,
		Nonce:           func(int) []byte { return []byte("rOprNGfwEbeRWgbNEkqO") },
	})
	mech, first, _ := client.Start()
	fmt.Println(mech)
	fmt.Println(string(first))
	// Output:
	// SCRAM-SHA-256-PLUS
	// p=tls-exporter,,n=user,r=rOprNGfwEbeRWgbNEkqO
}
