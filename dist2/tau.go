package dist2

import (
	"fmt"
	"math"
	"strconv"
)

// AutoTau is the tau that asks for calibration: "auto" on a command line, 0
// in a Spec.
const AutoTau = 0

// A SettingError is a setting of the loss that cannot work: the Spec field
// it belongs to (by its JSON name), its value and what was wanted. Commands
// turn Field into the name of their flag.
type SettingError struct {
	Field string // kind, alpha, tau, perplexity, distance, target_topk or smoothing
	Value string // as given: a number, or a quoted string
	Want  string
}

func (e *SettingError) Error() string {
	return "dist2: " + e.Field + " " + e.Value + ": want " + e.Want
}

// badSetting returns the *SettingError of field's value.
func badSetting(field string, value any, want string) error {
	v := fmt.Sprint(value)
	if s, ok := value.(string); ok {
		v = strconv.Quote(s)
	}
	return &SettingError{Field: field, Value: v, Want: want}
}

// ParseTau reads a temperature: "auto" (returned as AutoTau) or a number > 0.
func ParseTau(s string) (float64, error) {
	if s == "auto" {
		return AutoTau, nil
	}
	tau, err := strconv.ParseFloat(s, 64)
	if err == nil {
		err = checkTau(tau, false)
	}
	if err != nil {
		return 0, badSetting("tau", s, "a number > 0, or auto")
	}
	return tau, nil
}

// checkTau is the one check of a temperature: a finite number > 0, or, where
// auto is allowed, AutoTau.
func checkTau(tau float64, auto bool) error {
	if tau > 0 && !math.IsInf(tau, 1) || auto && tau == AutoTau {
		return nil
	}
	if auto {
		return badSetting("tau", tau, "a finite number > 0, or 0 for auto")
	}
	return badSetting("tau", tau, "a finite number > 0")
}

// checkPerplexity checks a perplexity for auto tau before the vocabulary is
// known: 0 (the default) or a finite number > 1. Calibrate checks it
// against K.
func checkPerplexity(p float64) error {
	if p == 0 || p > 1 && !math.IsInf(p, 1) {
		return nil
	}
	return badSetting("perplexity", p, "a number > 1, or 0 for the default")
}

// A Temperature is a tau resolved for a distance: as given, or calibrated.
type Temperature struct {
	Tau  float64 // > 0, on the distance's scale
	Auto bool    // calibrated to Perplexity
	// Perplexity is, when Auto, the mean perplexity asked for (the default
	// filled in), and Reached the one Tau gives (within 1e-5 of it).
	Perplexity, Reached float64
}

// ResolveTau returns the temperature of the rows p_d over d for the tau and
// perplexity of a Spec. A tau > 0 is used as given. AutoTau is calibrated
// (Calibrate) so that the rows have perplexity effective neighbours on
// average; perplexity 0 asks for DefaultPerplexity, or K/2 when that is
// smaller, so that a small codebook can be calibrated too.
//
// It is the one place that resolves auto tau: training, kernel, targets
// export and the explorer all come here, so that they agree.
func ResolveTau(d Distance, tau, perplexity float64) (Temperature, error) {
	if err := checkTau(tau, true); err != nil {
		return Temperature{}, err
	}
	if err := checkPerplexity(perplexity); err != nil {
		return Temperature{}, err
	}
	if tau != AutoTau {
		return Temperature{Tau: tau}, nil
	}
	if perplexity == 0 {
		perplexity = min(DefaultPerplexity, float64(d.CodebookSize())/2)
	}
	tau, got, err := Calibrate(d, perplexity)
	if err != nil {
		return Temperature{}, err
	}
	return Temperature{Tau: tau, Auto: true, Perplexity: perplexity, Reached: got}, nil
}
