// Package detection is the screening pipeline: it decides, before a listing goes live,
// whether it copies an official product photo, reuses a known counterfeit's picture, claims a
// property's marks without a licence or comes from a seller who may not sell it, and it
// explains every judgement.
//
//   - [Service] (service.go, refs.go, screen*.go, jobs.go): each catalogue image is
//     fingerprinted once and stored; the reference pictures (official product images, known
//     counterfeits, removed listings' photos) live in an [imagematch.Matcher] in every
//     process, kept current by NOTIFY and a version counter; River jobs screen each listing,
//     record the screening and set its status (live, held, blocked) in one transaction,
//     failing closed. It is also the counterfeit library that analysts' decisions teach.
//   - The rules (rules.go, fold.go, ruleconfig*.go) score a [ScreeningInput] into a verdict
//     with reasons, under a configuration analysts edit ([RuleStore]).
//
// Beside it, as packages of their own: detection/imagematch, the pure picture core
// (fingerprints, Hamming index, matcher: no database, no web), and detection/review, the
// analysts' queue of the listings this pipeline holds or blocks.
package detection
