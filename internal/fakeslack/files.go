package fakeslack

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// File is a file shared through files.completeUploadExternal.
type File struct {
	ID, Name, Title, Channel, Comment string
	Content                           []byte
}

// files holds uploads in progress and shared files.
type files struct {
	mu      sync.Mutex
	pending map[string]*File // by file ID, uploaded or not yet
	shared  []File
	n       int
}

func (s *Server) files() *files {
	f := &s.uploads
	f.mu.Lock()
	if f.pending == nil {
		f.pending = map[string]*File{}
	}
	f.mu.Unlock()
	return f
}

// Files returns the files shared so far, oldest first.
func (s *Server) Files() []File {
	f := s.files()
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]File(nil), f.shared...)
}

func (s *Server) filesGetUploadURLExternal(p params) (obj, *apiErr) {
	n, err := strconv.Atoi(p["length"])
	if p["filename"] == "" || err != nil || n <= 0 {
		return nil, fail("invalid_arguments")
	}
	f := s.files()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	id := fmt.Sprintf("F%08d", f.n)
	f.pending[id] = &File{ID: id, Name: p["filename"]}
	return obj{"upload_url": s.base + "/upload/" + id, "file_id": id}, nil
}

// handleUpload receives a file's bytes, as Slack's upload URL does.
func (s *Server) handleUpload(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimPrefix(r.URL.Path, "/upload/")
	f := s.files()
	var content []byte
	if mr, err := r.MultipartReader(); err == nil {
		for {
			part, err := mr.NextPart()
			if err != nil {
				break
			}
			if part.FormName() == "file" {
				content, _ = io.ReadAll(io.LimitReader(part, 10<<20))
			}
		}
	} else {
		content, _ = io.ReadAll(io.LimitReader(r.Body, 10<<20))
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	file, ok := f.pending[id]
	if !ok {
		http.Error(w, "unknown upload", http.StatusNotFound)
		return
	}
	file.Content = content
	w.Write([]byte("OK - " + strconv.Itoa(len(content))))
}

func (s *Server) filesCompleteUploadExternal(p params) (obj, *apiErr) {
	var list []struct {
		ID    string `json:"id"`
		Title string `json:"title"`
	}
	if err := json.Unmarshal([]byte(p["files"]), &list); err != nil || len(list) == 0 {
		return nil, fail("invalid_arguments")
	}
	channel := p["channel_id"]
	if channel == "" {
		channel = p["channels"]
	}
	f := s.files()
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []obj
	var shared []*File
	for _, l := range list {
		file, ok := f.pending[l.ID]
		if !ok || file.Content == nil {
			return nil, fail("file_not_found")
		}
		file.Title, file.Channel, file.Comment = l.Title, channel, p["initial_comment"]
		f.shared = append(f.shared, *file)
		delete(f.pending, l.ID)
		out = append(out, obj{"id": file.ID, "title": file.Title})
		shared = append(shared, file)
	}
	s.mu.Lock()
	for _, file := range shared {
		s.echoFileLocked(file)
	}
	s.mu.Unlock()
	return obj{"files": out}, nil
}
