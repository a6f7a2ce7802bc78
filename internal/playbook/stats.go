package playbook

import "github.com/trustbot/trustbot/internal/trustbot"

// Stats counts the content per kind, language, topic and situation.
type Stats struct {
	Languages  map[string]LangStats `json:"languages"`
	Topics     map[string]int       `json:"tips_per_topic"`
	Situations map[string]int       `json:"phrasings_per_situation"`
	ToneFlags  int                  `json:"tone_flags"`
	ToneCues   int                  `json:"tone_cues"`
	Examples   map[string]int       `json:"tone_examples"`
	Journeys   map[string]int       `json:"journey_steps"`
	Questions  int                  `json:"checkin_questions"`
	UIStrings  int                  `json:"ui_strings"`
}

// LangStats counts the items that have a text in one language.
type LangStats struct {
	Tips           int `json:"tips"`
	TipsWithAction int `json:"tips_with_action"`
	Phrasings      int `json:"phrasings"`
	CasualVariants int `json:"casual_variants"`
	UIStrings      int `json:"ui_strings"`
}

// Stats returns the counts of the library.
func (l *Library) Stats() Stats {
	s := Stats{
		Languages:  map[string]LangStats{},
		Topics:     map[string]int{},
		Situations: map[string]int{},
		Examples:   map[string]int{},
		Journeys:   map[string]int{},
		UIStrings:  len(l.Keys()),
	}
	if l.Tone != nil {
		s.ToneFlags, s.ToneCues = len(l.Tone.Flags), len(l.Tone.Cues)
	}
	for _, lang := range trustbot.Langs {
		code := string(lang)
		var ls LangStats
		for _, t := range l.Tips() {
			if t.Body[code] != "" {
				ls.Tips++
			}
			if t.Try[code] != "" {
				ls.TipsWithAction++
			}
		}
		for _, sit := range l.Situations {
			for _, p := range sit.Phrasings {
				if p.Polite[code] != "" {
					ls.Phrasings++
				}
				if p.Casual[code] != "" {
					ls.CasualVariants++
				}
			}
		}
		ls.UIStrings = len(l.ui[lang])
		s.Languages[code] = ls
	}
	for _, t := range l.Topics {
		s.Topics[t.ID] = len(t.Tips)
	}
	for _, sit := range l.Situations {
		s.Situations[sit.ID] = len(sit.Phrasings)
	}
	for _, e := range l.Examples {
		s.Examples[e.Lang]++
	}
	for id, j := range l.Journeys {
		s.Journeys[id] = len(j.Steps)
	}
	if l.Checkin != nil {
		s.Questions = len(l.Checkin.Questions)
	}
	return s
}
