package nn

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
)

// TrainState is where a training run stands: steps done, the epoch and the
// position in its data order, and the state of its random generator.
type TrainState struct {
	Step, Epoch, Pos int
	RNG              *rand.PCG
}

// PutState stores s in the checkpoint's metadata.
func (c *Checkpoint) PutState(s TrainState) error {
	rng, err := s.RNG.MarshalBinary()
	if err != nil {
		return fmt.Errorf("nn: rng state: %w", err)
	}
	c.Meta["step"] = strconv.Itoa(s.Step)
	c.Meta["epoch"] = strconv.Itoa(s.Epoch)
	c.Meta["pos"] = strconv.Itoa(s.Pos)
	c.Meta["rng"] = base64.StdEncoding.EncodeToString(rng)
	return nil
}

// RestoreState reads what PutState stored into s (whose RNG must be set).
func (c *Checkpoint) RestoreState(s *TrainState) error {
	for key, dst := range map[string]*int{"step": &s.Step, "epoch": &s.Epoch, "pos": &s.Pos} {
		v, err := strconv.Atoi(c.Meta[key])
		if err != nil || v < 0 {
			return fmt.Errorf("%s %q: want an integer >= 0", key, c.Meta[key])
		}
		*dst = v
	}
	rng, err := base64.StdEncoding.DecodeString(c.Meta["rng"])
	if err == nil {
		err = s.RNG.UnmarshalBinary(rng)
	}
	if err != nil {
		return fmt.Errorf("nn: rng state: %w", err)
	}
	return nil
}

// PutJSON stores v as JSON under key in the metadata.
func (c *Checkpoint) PutJSON(key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("nn: %s: %w", key, err)
	}
	c.Meta[key] = string(b)
	return nil
}

// GetJSON decodes the JSON stored under key into v.
func (c *Checkpoint) GetJSON(key string, v any) error {
	s, ok := c.Meta[key]
	if !ok {
		return fmt.Errorf("nn: no %q in the metadata", key)
	}
	if err := json.Unmarshal([]byte(s), v); err != nil {
		return fmt.Errorf("nn: %s: %w", key, err)
	}
	return nil
}
