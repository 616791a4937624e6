package configschema

import (
	"regexp"
	"strings"
)

var (
	sectionHeading = regexp.MustCompile("^(##|###) `([a-z_.]+)`")
	keyRow         = regexp.MustCompile("^\\| `([a-z0-9_.]+)` \\|(.*)\\|\\s*$")
	mdLink         = regexp.MustCompile(`\[([^\]]+)\]\([^)]+\)`)
)

// DocDescriptions reads the key tables of docs/configuration.md: under a
// heading "## `SECTION`" (and "### `SUB`" below it), each row
// "| `key` | default | meaning |" describes SECTION.SUB.key. The
// description is the meaning, followed by the default when the table has
// that column; Markdown links keep their text.
func DocDescriptions(markdown []byte) map[string]string {
	out := map[string]string{}
	var section, sub string
	cols := 0
	for _, line := range strings.Split(string(markdown), "\n") {
		if m := sectionHeading.FindStringSubmatch(line); m != nil {
			if m[1] == "##" {
				section, sub = m[2], ""
			} else {
				sub = m[2]
			}
			continue
		}
		if strings.HasPrefix(line, "## ") {
			section, sub = "", ""
			continue
		}
		if strings.HasPrefix(line, "| key |") {
			cols = strings.Count(line, "|") - 1
			continue
		}
		m := keyRow.FindStringSubmatch(line)
		if m == nil || section == "" {
			continue
		}
		cells := strings.Split(m[2], " | ")
		meaning := clean(cells[len(cells)-1])
		if cols == 3 && len(cells) == 2 {
			if d := clean(cells[0]); d != "" && d != "—" && d != "none" {
				meaning += " Default: " + d + "."
			}
		}
		prefix := section
		if sub != "" {
			prefix = join(section, sub)
		}
		out[join(prefix, m[1])] = meaning
	}
	return out
}

func clean(s string) string {
	s = mdLink.ReplaceAllString(strings.TrimSpace(s), "$1")
	return strings.ReplaceAll(s, "`", "")
}
