// Package teams is the Microsoft Teams adapter: it speaks the Bot Framework
// protocol that Teams uses, with no SDK.
//
// Inbound, Teams posts Activities to the bot's messaging endpoint with a
// signed token in the Authorization header; a Verifier checks the token
// against the Bot Framework's published keys before anything in the
// activity is believed. Outbound, the bot answers through the Connector REST
// API at the activity's service URL, with a client-credentials token from
// the Microsoft identity platform (TokenSource). The Connector paces sends to
// Teams' limits, retries what Teams asks to be retried and tells the caller,
// in the domain's error codes, whether a message was sent, may have been
// sent, was never sent, or can never reach its conversation.
package teams
