import Crypto
import Foundation
import SlipwayHTTP
import SwiftASN1
import Testing
import X509
@testable import SlipwayACME

/// The RFC 8555 pieces without a CA: JWS signatures a CA can verify, the key authorization, the TLS-ALPN-01
/// certificate, the CSR, and how error answers become retry decisions.
@Suite struct ACMEProtocolTests {
    @Test func aSignedRequestVerifiesWithTheAccountsPublicKey() throws {
        let key = AccountKey()
        let body = try JWS.sign(payload: Data("{\"termsOfServiceAgreed\":true}".utf8), url: "https://ca.test/new-acct", nonce: "n1", key: key, signer: .jwk)
        let json = try #require(try JSONSerialization.jsonObject(with: body) as? [String: String])
        let protected = try #require(json["protected"]), payload = try #require(json["payload"]), signature = try #require(json["signature"])
        let protectedJSON = try #require(Base64URL.decode(protected))
        let header = try #require(try JSONSerialization.jsonObject(with: protectedJSON) as? [String: Any])
        #expect(header["alg"] as? String == "ES256" && header["nonce"] as? String == "n1" && header["url"] as? String == "https://ca.test/new-acct")
        let jwk = try #require(header["jwk"] as? [String: String])
        #expect(jwk["kty"] == "EC" && jwk["crv"] == "P-256" && header["kid"] == nil)
        let decoded = try #require(Base64URL.decode(payload))
        #expect(String(decoding: decoded, as: UTF8.self) == "{\"termsOfServiceAgreed\":true}")
        let raw = try #require(Base64URL.decode(signature))
        #expect(raw.count == 64)
        let valid = key.key.publicKey.isValidSignature(try P256.Signing.ECDSASignature(rawRepresentation: raw), for: Data("\(protected).\(payload)".utf8))
        #expect(valid)
        // With an account: `kid`, no key; POST-as-GET: an empty payload.
        let get = try JWS.sign(payload: nil, url: "https://ca.test/order/1", nonce: "n2", key: key, signer: .kid("https://ca.test/acct/7"))
        let getJSON = try #require(try JSONSerialization.jsonObject(with: get) as? [String: String])
        let getProtected = try #require(getJSON["protected"])
        let getProtectedJSON = try #require(Base64URL.decode(getProtected))
        let getHeader = try #require(try JSONSerialization.jsonObject(with: getProtectedJSON) as? [String: Any])
        #expect(getHeader["kid"] as? String == "https://ca.test/acct/7" && getHeader["jwk"] == nil && getJSON["payload"] == "")
    }

    @Test func theKeyAuthorizationIsTheTokenAndTheJWKThumbprint() {
        let key = AccountKey()
        let x = key.jwk[2].1, y = key.jwk[3].1
        #expect(key.jwkJSON == "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"\(x)\",\"y\":\"\(y)\"}")
        #expect(key.thumbprint == Base64URL.encode(SHA256.hash(data: Data(key.jwkJSON.utf8))) && key.thumbprint.count == 43)
        #expect(key.keyAuthorization(token: "tok") == "tok." + key.thumbprint)
    }

    @Test func theTLSALPNCertificateCarriesTheDigestOfTheKeyAuthorization() throws {
        let made = try ChallengeCertificate.tlsALPN01(name: "shop.test", keyAuthorization: "tok.thumb")
        let cert = try Certificate(pemEncoded: made.certificatePEM)
        let ext = try #require(cert.extensions.first { $0.oid == ChallengeCertificate.acmeIdentifierOID })
        #expect(ext.critical)
        let digest = try ASN1OctetString(derEncoded: ext.value)
        #expect(Array(digest.bytes) == Array(SHA256.hash(data: Data("tok.thumb".utf8))))
        #expect(CertificateFacts(pem: made.certificatePEM)?.names == ["shop.test"])
        #expect(CertificateFacts(pem: try ChallengeCertificate.placeholder(names: ["shop.test"]).certificatePEM)?.isPlaceholder == true)
        #expect(CertificateFacts(pem: made.certificatePEM)?.isPlaceholder == false)
    }

    @Test func theCSRNamesEveryHostAndIsSignedByTheCertificatesKey() throws {
        let key = P256.Signing.PrivateKey()
        let der = try ACMEClient.csr(names: ["shop.test", "www.shop.test"], key: key)
        let csr = try CertificateSigningRequest(derEncoded: der)
        #expect(csr.publicKey == Certificate.PublicKey(key.publicKey))
        let request = try csr.attributes.extensionRequest
        let requested = try #require(request).extensions
        #expect(try requested.subjectAlternativeNames.map(Array.init) == [.dnsName("shop.test"), .dnsName("www.shop.test")])
    }

    @Test func errorAnswersBecomeRetryDecisions() {
        func answer(_ status: Int, _ problem: String?, retryAfter: String? = nil) -> MiniHTTPClient.Response {
            MiniHTTPClient.Response(status: status, reason: "", headers: retryAfter.map { [("Retry-After", $0)] } ?? [],
                                    body: Array((problem.map { "{\"type\":\"urn:ietf:params:acme:error:\($0)\",\"detail\":\"because\"}" } ?? "").utf8))
        }
        let limited = ACMEClient.failure(answer(429, "rateLimited", retryAfter: "120"), what: "creating an order")
        #expect(limited.kind == .rateLimited && limited.retryAfter == .seconds(120) && limited.message.contains("rateLimited: because"))
        #expect(ACMEClient.failure(answer(503, nil, retryAfter: "30"), what: "x").kind == .unreachable)
        let refused = ACMEClient.failure(answer(403, "unauthorized"), what: "answering the challenge")
        #expect(refused.kind == .refused && refused.retryAfter == nil && refused.description.contains("unauthorized: because"))
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(ACMEClient.retryAfter("Fri, 15 Jan 2027 08:02:00 GMT", now: now) == .seconds(120))
        #expect(ACMEClient.retryAfter("soon", now: now) == nil)
    }
}
