import Crypto
import Foundation
import SlipwayHTTP
import SwiftASN1
import X509

/// A certificate the CA issued: its chain (leaf first) and the key made for it, both PEM.
public struct IssuedCertificate: Sendable {
    public var chainPEM: String
    public var keyPEM: String
}

extension ACMEClient {
    /// RFC 8555 §7.4: an order for `names`, each authorization proven with `challenge` (published through
    /// `responder`, withdrawn whatever happens), a CSR for a fresh P-256 key, the chain downloaded.
    public func issue(names: [String], challenge: ChallengeKind, responder: any ChallengeResponder,
                      poll: Duration = .milliseconds(300), deadline: Duration = .seconds(120)) async throws(ACMEFailure) -> IssuedCertificate {
        let clock = ContinuousClock()
        let end = clock.now + deadline
        let d = try await loadDirectory()
        var ids: [String] = []
        for name in names { ids.append("{\"type\":\"dns\",\"value\":\(try JWS.quote(name))}") }
        let created = try await post(d.newOrder, payload: Data("{\"identifiers\":[\(ids.joined(separator: ","))]}".utf8))
        guard created.status == 201, let orderURL = created.header("Location") else { throw Self.failure(created, what: "creating an order for \(names.joined(separator: ", "))") }
        var order: ACMEOrder = try Self.decode(created, what: "the new order")
        for authURL in order.authorizations {
            try await authorize(authURL, challenge: challenge, responder: responder, poll: poll, end: end)
        }
        order = try await waitForOrder(orderURL, until: ["ready", "valid"], poll: poll, end: end, what: "the order to become ready")
        let key = P256.Signing.PrivateKey()
        if order.status == "ready" {
            let csr = try Self.csr(names: names, key: key)
            let r = try await post(order.finalize, payload: Data("{\"csr\":\"\(Base64URL.encode(csr))\"}".utf8))
            guard r.status == 200 else { throw Self.failure(r, what: "finalizing the order for \(names.joined(separator: ", "))") }
            order = try await waitForOrder(orderURL, until: ["valid"], poll: poll, end: end, what: "the certificate to be issued")
        }
        guard let certURL = order.certificate else { throw ACMEFailure(.protocolError, "the valid order \(orderURL) names no certificate") }
        let r = try await post(certURL, payload: nil, accept: "application/pem-certificate-chain")
        guard r.status == 200, r.bodyText.contains("-----BEGIN CERTIFICATE-----") else { throw Self.failure(r, what: "downloading the certificate") }
        return IssuedCertificate(chainPEM: r.bodyText, keyPEM: key.pemRepresentation)
    }

    /// One authorization: nothing to do when already valid; else its challenge of `kind` is published,
    /// answered, polled until valid (or invalid: the CA's reason), and withdrawn.
    func authorize(_ url: String, challenge kind: ChallengeKind, responder: any ChallengeResponder, poll: Duration, end: ContinuousClock.Instant) async throws(ACMEFailure) {
        let first = try await post(url, payload: nil)
        guard first.status == 200 else { throw Self.failure(first, what: "reading an authorization") }
        let auth: ACMEAuthorization = try Self.decode(first, what: "an authorization")
        if auth.status == "valid" { return }
        let name = auth.identifier.value
        guard let c = auth.challenges.first(where: { $0.type == kind.rawValue }), let token = c.token else {
            throw ACMEFailure(.refused, "the CA offers no \(kind.rawValue) challenge for \(name) (it offers \(auth.challenges.map(\.type).joined(separator: ", ")))")
        }
        let keyAuthorization = key.keyAuthorization(token: token)
        let published: PublishedChallenge
        switch kind {
        case .http01: published = .http01(token: token, keyAuthorization: keyAuthorization)
        case .tlsALPN01:
            let made = try ChallengeCertificate.tlsALPN01(name: name, keyAuthorization: keyAuthorization)
            published = .tlsALPN01(name: name, certificatePEM: made.certificatePEM, keyPEM: made.keyPEM)
        }
        await responder.publish(published)
        do throws(ACMEFailure) {
            let answered = try await post(c.url, payload: Data("{}".utf8))
            guard answered.status == 200 else { throw Self.failure(answered, what: "answering the \(kind.rawValue) challenge for \(name)") }
            while true {
                let r = try await post(url, payload: nil)
                guard r.status == 200 else { throw Self.failure(r, what: "reading the authorization for \(name)") }
                let now: ACMEAuthorization = try Self.decode(r, what: "an authorization")
                if now.status == "valid" { break }
                if now.status != "pending" {
                    let why = now.challenges.first { $0.type == kind.rawValue }?.error?.summary ?? now.status
                    throw ACMEFailure(.refused, "the CA could not validate \(name) with \(kind.rawValue): \(why)")
                }
                try await pause(poll, end: end, what: "the \(kind.rawValue) challenge for \(name)")
            }
        } catch {
            await responder.withdraw(published)
            throw error
        }
        await responder.withdraw(published)
    }

    func waitForOrder(_ url: String, until wanted: Set<String>, poll: Duration, end: ContinuousClock.Instant, what: String) async throws(ACMEFailure) -> ACMEOrder {
        while true {
            let r = try await post(url, payload: nil)
            guard r.status == 200 else { throw Self.failure(r, what: "reading the order") }
            let order: ACMEOrder = try Self.decode(r, what: "the order")
            if wanted.contains(order.status) { return order }
            if order.status == "invalid" {
                throw ACMEFailure(.refused, "the CA marked the order invalid\(order.error.map { ": \($0.summary)" } ?? "")")
            }
            try await pause(poll, end: end, what: what)
        }
    }

    func pause(_ poll: Duration, end: ContinuousClock.Instant, what: String) async throws(ACMEFailure) {
        guard ContinuousClock().now + poll < end else { throw ACMEFailure(.unreachable, "gave up waiting for \(what)") }
        do { try await Task.sleep(for: poll) } catch { throw ACMEFailure(.unreachable, "stopped while waiting for \(what)") }
    }

    /// A PKCS#10 request (DER) for `names`: the first is the common name, all are subjectAltNames.
    static func csr(names: [String], key: P256.Signing.PrivateKey) throws(ACMEFailure) -> [UInt8] {
        do {
            let extensions = try Certificate.Extensions { SubjectAlternativeNames(names.map { .dnsName($0) }) }
            let request = try CertificateSigningRequest(
                version: .v1, subject: try DistinguishedName { CommonName(names[0]) }, privateKey: .init(key),
                attributes: try CertificateSigningRequest.Attributes([.init(ExtensionRequest(extensions: extensions))]),
                signatureAlgorithm: .ecdsaWithSHA256)
            var serializer = DER.Serializer()
            try serializer.serialize(request)
            return serializer.serializedBytes
        } catch {
            throw ACMEFailure(.protocolError, "cannot make the certificate request for \(names.joined(separator: ", "))", cause: "\(error)")
        }
    }
}
