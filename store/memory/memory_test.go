package memory_test

import (
	"testing"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/store/memory"
	"github.com/onetimego/onetime/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) onetime.Store { return memory.New() })
}
