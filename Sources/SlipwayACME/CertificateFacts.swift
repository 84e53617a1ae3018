import Foundation
import SwiftASN1
import X509

/// What the ACME side needs to know of a PEM certificate chain's leaf: its names, validity and issuer.
public struct CertificateFacts: Sendable, Equatable {
    public var names: [String]
    public var notBefore: Date
    public var notAfter: Date
    public var issuer: String

    /// The leaf (first certificate) of a PEM chain; nil when there is none that parses.
    public init?(pem: String) {
        guard let block = try? PEMDocument(pemString: Self.firstBlock(pem)), let c = try? Certificate(derEncoded: block.derBytes) else { return nil }
        let san: SubjectAlternativeNames? = (try? c.extensions.subjectAlternativeNames) ?? nil
        names = (san.map(Array.init) ?? []).compactMap { name -> String? in if case .dnsName(let n) = name { n } else { nil } }
        notBefore = c.notValidBefore
        notAfter = c.notValidAfter
        issuer = c.issuer.description
    }

    public init?(file: String) {
        guard let data = FileManager.default.contents(atPath: file) else { return nil }
        self.init(pem: String(decoding: data, as: UTF8.self))
    }

    /// Made by `ChallengeCertificate.placeholder`, not by a CA.
    public var isPlaceholder: Bool { issuer.contains(ChallengeCertificate.placeholderOrganization) }

    static func firstBlock(_ pem: String) -> String {
        guard let start = pem.range(of: "-----BEGIN CERTIFICATE-----"),
              let end = pem.range(of: "-----END CERTIFICATE-----", range: start.upperBound..<pem.endIndex) else { return pem }
        return String(pem[start.lowerBound..<end.upperBound])
    }
}
