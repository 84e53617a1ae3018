import Foundation
import SlipwayHTTP
import SwiftASN1
import X509

/// ACME Renewal Information (RFC 9773): the CA's suggested window to renew a certificate in, which may be
/// earlier than two thirds of its lifetime (a revocation ahead, a CA incident).
public struct RenewalWindow: Codable, Sendable, Equatable {
    public var start: Date
    public var end: Date

    public init(start: Date, end: Date) {
        self.start = start
        self.end = end
    }

    /// A time in the window (`jitter` in 0..<1: spread so a fleet does not renew at one instant).
    public func pick(jitter: Double) -> Date { start.addingTimeInterval(max(0, end.timeIntervalSince(start)) * min(max(jitter, 0), 1)) }
}

public enum RenewalInfo {
    /// The certificate's ARI identifier: base64url(authorityKeyIdentifier) "." base64url(serial number's DER
    /// content bytes); nil when the leaf has no key identifier.
    public static func certID(_ chainPEM: String) -> String? {
        guard let pem = try? PEMDocument(pemString: CertificateFacts.firstBlock(chainPEM)), let c = try? Certificate(derEncoded: pem.derBytes),
              let aki = (try? c.extensions.authorityKeyIdentifier) ?? nil, let id = aki.keyIdentifier else { return nil }
        // The INTEGER's DER content: two's complement, so a leading 0x00 when the top bit is set (swift-certificates
        // keeps the magnitude only).
        var serial = Array(c.serialNumber.bytes)
        if serial.isEmpty || serial[0] >= 0x80 { serial.insert(0, at: 0) }
        return Base64URL.encode(id) + "." + Base64URL.encode(serial)
    }

    /// `{"suggestedWindow": {"start": …, "end": …}}`.
    static func window(_ body: [UInt8]) -> RenewalWindow? {
        struct Answer: Decodable { var suggestedWindow: RenewalWindow }
        let d = JSONDecoder()
        d.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            let f = ISO8601DateFormatter()
            f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            if let date = f.date(from: text) ?? ISO8601DateFormatter().date(from: text) { return date }
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an RFC 3339 time: \(text)"))
        }
        return (try? d.decode(Answer.self, from: Data(body)))?.suggestedWindow
    }
}

extension ACMEClient {
    /// The CA's suggested renewal window for the certificate (nil when the CA offers no renewal information).
    public func renewalWindow(for chainPEM: String) async throws(ACMEFailure) -> RenewalWindow? {
        let d = try await loadDirectory()
        guard let base = d.renewalInfo, let id = RenewalInfo.certID(chainPEM) else { return nil }
        let r = try await fetch("GET", base.hasSuffix("/") ? base + id : base + "/" + id)
        guard r.status == 200 else { throw Self.failure(r, what: "reading the renewal information") }
        guard let window = RenewalInfo.window(r.body) else { throw ACMEFailure(.protocolError, "the CA's renewal information has no suggestedWindow") }
        return window
    }
}
