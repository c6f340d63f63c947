//! Project and section use cases, shared by every interface.

use crate::Todo;
use crate::error::Result;
use crate::ids::UserId;
use crate::project::{
    PROJECT_NOT_FOUND, Project, ProjectId, ProjectInput, ProjectPatchInput, SECTION_NOT_FOUND,
    Section, SectionId, SectionInput, SectionPatchInput,
};
use crate::time::now;

impl Todo {
    /// The user's projects: the Inbox first, then in their order.
    pub async fn list_projects(&self, user_id: &UserId) -> Result<Vec<Project>> {
        self.store.list_projects(user_id).await
    }

    pub async fn get_project(&self, user_id: &UserId, id: ProjectId) -> Result<Project> {
        self.store
            .project(user_id, id)
            .await?
            .ok_or(PROJECT_NOT_FOUND)
    }

    pub async fn create_project(&self, user_id: &UserId, input: ProjectInput) -> Result<Project> {
        let project = input.validate()?;
        self.store.insert_project(user_id, &project, now()).await
    }

    pub async fn update_project(
        &self,
        user_id: &UserId,
        id: ProjectId,
        input: ProjectPatchInput,
    ) -> Result<Project> {
        // Someone else's project is a 404 whatever the body says.
        let changes = match input.validate() {
            Ok(changes) => changes,
            Err(err) => {
                self.get_project(user_id, id).await?;
                return Err(err);
            }
        };
        self.store
            .update_project(user_id, id, &changes, now())
            .await?
            .ok_or(PROJECT_NOT_FOUND)
    }

    pub async fn delete_project(&self, user_id: &UserId, id: ProjectId) -> Result<()> {
        if self.store.delete_project(user_id, id).await? {
            Ok(())
        } else {
            Err(PROJECT_NOT_FOUND)
        }
    }

    pub async fn list_sections(
        &self,
        user_id: &UserId,
        project: ProjectId,
    ) -> Result<Vec<Section>> {
        self.store
            .list_sections(user_id, project)
            .await?
            .ok_or(PROJECT_NOT_FOUND)
    }

    pub async fn create_section(
        &self,
        user_id: &UserId,
        project: ProjectId,
        input: SectionInput,
    ) -> Result<Section> {
        let name = match input.validate() {
            Ok(name) => name,
            Err(err) => {
                self.get_project(user_id, project).await?;
                return Err(err);
            }
        };
        self.store
            .insert_section(user_id, project, &name, input.position, now())
            .await?
            .ok_or(PROJECT_NOT_FOUND)
    }

    pub async fn update_section(
        &self,
        user_id: &UserId,
        id: SectionId,
        input: SectionPatchInput,
    ) -> Result<Section> {
        // Someone else's section is a 404 whatever the body says.
        let changes = match input.validate() {
            Ok(changes) => changes,
            Err(err) => {
                self.store
                    .section(user_id, id)
                    .await?
                    .ok_or(SECTION_NOT_FOUND)?;
                return Err(err);
            }
        };
        self.store
            .update_section(user_id, id, &changes, now())
            .await?
            .ok_or(SECTION_NOT_FOUND)
    }

    pub async fn delete_section(&self, user_id: &UserId, id: SectionId) -> Result<()> {
        if self.store.delete_section(user_id, id).await? {
            Ok(())
        } else {
            Err(SECTION_NOT_FOUND)
        }
    }
}
