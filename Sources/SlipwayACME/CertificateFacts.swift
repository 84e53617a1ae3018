import Foundation
import SwiftASN1
import X509

/// What is known of a certificate once parsed (swift-certificates): its DNS names, validity, subject and issuer.
/// The router's certificate report and the ACME side both read a leaf through it.
public struct CertificateFacts: Sendable, Equatable {
    public var names: [String]
    public var notBefore: Date
    public var notAfter: Date
    public var subject: String
    public var issuer: String

    public init(_ c: Certificate) {
        let san: SubjectAlternativeNames? = (try? c.extensions.subjectAlternativeNames) ?? nil
        names = (san.map(Array.init) ?? []).compactMap { name -> String? in if case .dnsName(let n) = name { n } else { nil } }
        notBefore = c.notValidBefore
        notAfter = c.notValidAfter
        subject = c.subject.description
        issuer = c.issuer.description
    }

    /// A DER certificate; nil when it does not parse.
    public init?(der: [UInt8]) {
        guard let c = try? Certificate(derEncoded: der) else { return nil }
        self.init(c)
    }

    /// The leaf (first certificate) of a PEM chain; nil when there is none that parses.
    public init?(pem: String) {
        guard let block = try? PEMDocument(pemString: Self.firstBlock(pem)) else { return nil }
        self.init(der: block.derBytes)
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
